from hypothesis import given, settings
from hypothesis import strategies as st

from byline.input.repair import repair_text
from byline.scoring.article_features import prepare_text

CLEAN = (
    "The council said on Tuesday that the new bridge would open in May. Officials in London "
    "expect the work to cost more than planned, and the mayor told reporters the delay was "
    'regrettable.\n\nThe Hague has asked for a review. "We will look at every option," she said.'
)


def test_clean_copy_edited_text_is_left_alone():
    repaired = repair_text(CLEAN)
    assert repaired.text == CLEAN
    assert not repaired.repaired
    assert repaired.offsets == list(range(len(CLEAN)))


def test_systematic_misspellings_are_repaired():
    noisy = (
        "The goverment said on Tuesday that the new brigde would open soon. Oficials expect the "
        "work to cost more than planed, and the mayor told reporters the delay was regretable. "
        "The council will recieve a report next week about the buget."
    )
    repaired = repair_text(noisy)
    assert repaired.spelling_fixes >= 3
    for right in ("government", "receive", "budget"):
        assert right in repaired.text


def test_british_and_american_spellings_are_both_right():
    text = (
        "The theatre's programme honours the neighbours' favourite colour. The center's program "
        "honors the neighbors' favorite color. The defence of the organisation was analysed."
    )
    assert repair_text(text).text == text


def test_flipped_capitals_are_repaired():
    noisy = (
        "the council said The bridge would open in may. officials expect The work to cost more, "
        "And the mayor told reporters Of the delay. it was regrettable, she said Of the plan."
    )
    repaired = repair_text(noisy)
    assert repaired.case_fixes >= 5
    assert repaired.text.startswith("The council said the bridge")
    assert "Officials expect the work" in repaired.text
    assert "in may" in repaired.text  # a month or a verb: left as written


def test_one_slip_is_not_tampering():
    text = CLEAN.replace("regrettable", "regretable")
    assert repair_text(text).text == text


def test_prepared_text_maps_repaired_characters_back():
    noisy = (
        "The goverment said the bridge would open. Oficials expect the work to cost more than "
        "planned.\n\nThe mayor will recieve a report about the buget and the tranport plan."
    )
    prepared = prepare_text(noisy)
    assert "government" in prepared.reflowed and prepared.spelling_repairs >= 3
    start = prepared.reflowed.index("government")
    original = noisy[prepared.offset_map[start] : prepared.offset_map[start + len("government") - 1] + 1]
    assert original == "goverment"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abcdeiortuAT .,'\"\n?!")), max_size=300))
def test_offsets_always_point_into_the_input(text):
    repaired = repair_text(text)
    assert len(repaired.offsets) == len(repaired.text)
    assert all(0 <= o < len(text) for o in repaired.offsets)
    assert repaired.offsets == sorted(repaired.offsets)


def test_unknown_and_miscapitalised_words_are_found():
    from byline.input.repair import unknown_words

    text = "The council said the Bridge would open in May, and the qubitz were in the Bank of England."
    found = [text[a:b] for a, b in unknown_words(text)]
    assert found == ["Bridge", "qubitz"]  # "May" and "Bank of England": a name


def test_a_tampered_text_also_leaves_out_unknown_names_and_the_word_after_each_unknown_word():
    from byline.input.repair import unknown_words

    text = "Mayor Vactoria Smith said the goverment would pay. Staff at Nato agreed."
    untampered = [text[a:b] for a, b in unknown_words(text)]
    tampered = [text[a:b] for a, b in unknown_words(text, tampered=True)]
    assert untampered == ["goverment"]
    # "Vactoria" (no word list knows it) runs on through "Smith"; "goverment" through "would".
    assert tampered == ["Vactoria Smith", "goverment would", "Nato agreed"]


def test_prepare_text_masks_more_only_in_a_repaired_text():
    clean = "Mayor Vactoria Smith said the council would pay for the new bridge over the river next year."
    noisy = (
        "Mayor Vactoria Smith siad the goverment wuold pay for the new brigde over the rivre next year, "
        "and the cuoncil agreed."
    )
    assert prepare_text(clean).unknown_words == []
    prepared = prepare_text(noisy)
    assert prepared.spelling_repairs >= 3
    assert "Vactoria Smith" in [prepared.reflowed[a:b] for a, b in prepared.unknown_words]


def test_language_model_features_leave_out_unknown_words():
    import numpy as np

    from byline.scoring.article_features import known_word_tokens
    from byline.scoring.token_statistics import TokenStatistics

    text = "the goverment said no"
    offsets = np.array(
        [[0, 3], [3, 8], [8, 13], [13, 18], [18, 21]]
    )  # "the", " gove", "rment", " said", " no"
    stats = TokenStatistics(
        model="m",
        log_probs=np.array([-1.0, -9.0, -8.0, -2.0, -1.5]),
        entropies=np.ones(5),
        ranks=np.ones(5),
        log_prob_variances=np.ones(5),
        offsets=offsets,
        n_tokens=5,
    )
    kept = known_word_tokens(stats, [(4, 13)])
    assert kept.log_probs.tolist() == [-1.0, -2.0, -1.5]
    assert kept.n_tokens == 5
    assert text[4:13] == "goverment"

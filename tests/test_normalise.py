import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from byline.input.normalise import normalise_text, reflow, word_count


def test_homoglyphs_map_to_latin():
    # "Тhе сrоwd" with Cyrillic Т, е, с, о and Greek ο
    spoofed = "\u0422h\u0435 \u0441r\u043ewd gathered in the square \u03bfn Monday."
    assert normalise_text(spoofed) == "The crowd gathered in the square on Monday."


def test_real_greek_or_russian_text_is_left_alone():
    greek = "Η κυβέρνηση ανακοίνωσε νέα μέτρα σήμερα το πρωί."
    assert normalise_text(greek) == unicodedata.normalize("NFKC", greek)


def test_zero_width_and_invisible_characters_are_removed():
    text = "The\u200b min\u00adister\u200d said\ufeff it was\u2060 over.\u202e"
    assert normalise_text(text) == "The minister said it was over."


def test_whitespace_is_collapsed_and_paragraphs_kept():
    text = "  First\u00a0line  of\ttext.  \r\n\r\n\r\n\r\nSecond   paragraph.\u2028Third line. "
    assert normalise_text(text) == "First line of text.\n\nSecond paragraph.\nThird line."


def test_glued_sentences_are_separated_and_quotes_straightened():
    assert normalise_text("He left.The match \u201cended\u201d, it\u2019s over.") == (
        'He left. The match "ended", it\'s over.'
    )
    # abbreviations and decimals are not split
    assert normalise_text("The U.S. grew 2.5% in Jan.") == "The U.S. grew 2.5% in Jan."


def test_fullwidth_characters_fold_to_ascii():
    assert normalise_text("\uff21\uff22\uff23 News") == "ABC News"


def test_reflow_keeps_offsets():
    text = normalise_text("One line.\nTwo lines.\n\nNew paragraph.")
    flat, offsets = reflow(text)
    assert flat == "One line. Two lines. New paragraph."
    assert len(offsets) == len(flat)
    for i, char in enumerate(flat):
        assert text[offsets[i]] == char or (char == " " and text[offsets[i]] == "\n")


def test_word_count_ignores_punctuation_only_tokens():
    assert word_count("Hello , world - 42 !") == 3


@given(st.text(max_size=300))
def test_normalisation_is_idempotent_and_leaves_no_invisible_characters(text):
    once = normalise_text(text)
    assert normalise_text(once) == once
    assert not any(unicodedata.category(c) in ("Cf", "Cc") and c != "\n" for c in once)
    assert "\n\n\n" not in once and "  " not in once

"""Scoring layer: language-model token statistics and text features."""

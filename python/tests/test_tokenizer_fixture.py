"""The committed tokenizer fixture (test/fixtures/tokenizer/expected.json, which the TS tokenizer is held to) is what
transformers' CLIPTokenizer gives now: regenerating it would change no byte."""

from oracle.tokenizer import FIXTURE, PROMPTS, fixture


def test_the_fixture_covers_at_least_100_prompts():
    assert len(PROMPTS) >= 100
    assert len(set(PROMPTS)) == len(PROMPTS)


def test_the_committed_tokenizer_fixture_is_what_transformers_gives_now():
    assert FIXTURE.read_text(encoding="utf-8") == fixture()

"""The OpenAI profile's own rules: fine-tune ids, their families, the provider's owners."""

from __future__ import annotations

import pytest

from syncer.providers.openai import PROFILE, fine_tune_family, is_fine_tuned
from syncer.providers.profile import Family

parse_family = fine_tune_family
is_provider_owner = PROFILE.fine_tunes.is_provider_owner


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        ("ft:gpt-4o-mini-2024-07-18:acme:x:AbC", True),
        ("ft:gpt-3.5-turbo-0125:acme::9XyZ", True),
        ("curie:ft-acme-2023-01-01", True),
        ("davinci:ft-personal-2022-12-01-10-00-00", True),
        ("gpt-4o", False),
        ("gpt-4o-mini-2024-07-18", False),
        ("text-embedding-3-small", False),
        ("draft:model", False),
        ("soft-model", False),
    ],
)
def test_is_fine_tuned_recognises_current_and_legacy_fine_tune_ids(
    model_id: str, expected: bool
) -> None:
    assert is_fine_tuned(model_id) is expected


@pytest.mark.parametrize(
    ("model_id", "family"),
    [
        (
            "ft:gpt-4o-mini-2024-07-18:acme:support-v3:AbC123",
            Family("gpt-4o-mini-2024-07-18", "support-v3"),
        ),
        ("ft:gpt-4o-mini-2024-07-18:acme::AbC123", Family("gpt-4o-mini-2024-07-18", "")),
        ("ft:gpt-4o:acme:a:b:XyZ", Family("gpt-4o", "a:b")),
        ("ft:gpt-4o:acme:x@1:abc", Family("gpt-4o", "x@1")),
        ("curie:ft-acme:support-2022-02-15-04-21-04", Family("curie", "support")),
        ("curie:ft-acme-2022-02-15-04-21-04", Family("curie", "")),
        ("davinci:ft-acme:v2", Family("davinci", "v2")),
    ],
)
def test_a_fine_tune_id_gives_its_base_model_and_suffix(model_id: str, family: Family) -> None:
    assert parse_family(model_id) == family


@pytest.mark.parametrize(
    "model_id",
    [
        "gpt-4o",
        "ft:gpt-4o",
        "ft:gpt-4o:acme:x",
        "ft::acme:x:1",
        "ft:gpt-4o::x:1",
        "ft:gpt-4o:acme:x:",
        ":ft-acme-2022-02-15-04-21-04",
        "curie:ft-",
        "curie:ft-:x",
    ],
)
def test_an_id_of_no_known_fine_tune_shape_has_no_family(model_id: str) -> None:
    assert parse_family(model_id) is None


def test_a_family_reads_as_base_and_suffix() -> None:
    assert str(Family("gpt-4o", "support")) == "gpt-4o (support)"
    assert str(Family("gpt-4o", "")) == "gpt-4o (no suffix)"


@pytest.mark.parametrize(
    "owner", ["openai", "system", "openai-internal", "openai-dev", "OpenAI", " system "]
)
def test_the_providers_owners_are_recognised(owner: str) -> None:
    assert is_provider_owner(owner)


@pytest.mark.parametrize("owner", ["org-acme", "user-abc", "openaix", "", None])
def test_an_organisation_or_user_is_not_the_provider(owner: str | None) -> None:
    assert not is_provider_owner(owner)

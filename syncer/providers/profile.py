"""A provider kind as data: how to reach its model list, read it, and what retention may touch.

Providers differ in small, documented ways (the auth header, where the list sits in the body,
how pages follow, which field holds a shutdown date, what an error body looks like), so a
kind is a frozen ``Profile`` plus, where a rule is not data, one small pure function. The
generic client (``http``), the parser (``sync.parse``) and retention read the profile and
never the kind's name. Each kind is one module in this package, imported only when a source
of that kind is configured: ``profile_for`` is the registry.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from syncer.errors import ConfigError
from syncer.providers.paging import Paginator, single

__all__ = [
    "KINDS",
    "ErrorInfo",
    "Family",
    "Fields",
    "FineTunes",
    "Profile",
    "all_profiles",
    "any_id",
    "apis_of",
    "no_family",
    "no_slash",
    "not_fine_tuned",
    "profile_for",
    "read_error",
]

#: Every provider kind, by the name a source's ``kind`` gives; each is ``providers/<kind>.py``.
KINDS = (
    "openai",
    "azure",
    "anthropic",
    "gemini",
    "openrouter",
    "mistral",
    "together",
    "groq",
    "deepseek",
    "xai",
    "cohere",
    "ollama",
    "vllm",
    "litellm",
)


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """What a provider's error body says: its words, its code and type when it gives them.

    ``auth`` is set when the body itself says the key was refused, for providers that answer
    a bad key with a status other than 401; ``hint`` is what to check when the provider's
    words hide the cause (a wrong key that reads as a missing database).
    """

    message: str | None
    code: str | None = None
    type: str | None = None
    auth: bool = False
    hint: str | None = None


@dataclass(frozen=True, order=True)
class Family:
    """The fine-tunes of one base model under one suffix: successive versions of a model."""

    base: str
    suffix: str

    def __str__(self) -> str:
        return f"{self.base} ({self.suffix or 'no suffix'})"


def not_fine_tuned(model_id: str, raw: Mapping[str, Any]) -> bool:
    """The rule of a kind that lists no fine-tunes of its users."""
    return False


def no_family(model_id: str) -> Family | None:
    return None


def any_id(model_id: str) -> bool:
    """A retrieve endpoint that addresses every id (``http.model_path`` escapes each)."""
    return True


def no_slash(model_id: str) -> bool:
    """A retrieve endpoint whose router cannot address an id with ``/`` in it, escaped or not."""
    return "/" not in model_id


@dataclass(frozen=True)
class FineTunes:
    """How a kind marks its users' fine-tunes, and whether retention may delete them.

    ``is_fine_tuned`` sees the id and the listed object; retention, which works from stored
    rows, asks it with the id alone (an empty object), so a deletable kind's rule must hold
    on the id. ``owners`` (and ``owner_prefixes``) are the provider's own ``owned_by``
    values: a model they own is never deleted, whatever a rule says.
    """

    is_fine_tuned: Callable[[str, Mapping[str, Any]], bool] = not_fine_tuned
    family: Callable[[str], Family | None] = no_family
    owners: frozenset[str] = frozenset()
    owner_prefixes: tuple[str, ...] = ()
    #: The kind documents ``DELETE {list_path}/{id}`` for fine-tuned models.
    deletable: bool = False
    #: What separates the parts of a fine-tune id (``:`` in ``ft:{base}:{org}:{suffix}:{id}``).
    #: Retention matches ``include`` part by part, so a wildcard cannot carry an org name
    #: from the suffix into the org's place; None matches the whole id as text.
    part_separator: str | None = None

    def is_provider_owner(self, owner: str | None) -> bool:
        if owner is None:
            return False
        owner = owner.strip().lower()
        return owner in self.owners or owner.startswith(self.owner_prefixes)


@dataclass(frozen=True)
class Fields:
    """Where each column's value sits in one listed model; a dotted name reaches into objects.

    ``created`` is unix seconds, or RFC 3339 text when ``created_as`` is ``"rfc3339"``. The
    first of ``shutdown`` (and of ``context_length``) that holds a value wins. A field a
    kind does not list is None, so its absence is no warning.
    """

    id: str = "id"
    #: Stripped from the id (Gemini lists ``models/gemini-2.5-flash``).
    id_prefix: str = ""
    created: str | None = "created"
    created_as: str = "unix"
    owned_by: str | None = "owned_by"
    object: str | None = "object"
    shutdown: tuple[str, ...] = ()
    display_name: str | None = None
    context_length: tuple[str, ...] = ()
    #: The provider's named successor of a deprecated model.
    replacement: str | None = None
    #: Where the provider says the model's lifecycle status. A string is the status as it
    #: is, in lower case (Azure classic's ``lifecycle_status``: ``preview``,
    #: ``generally-available``); a boolean reads through ``status_flags``.
    status: str | None = None
    #: The status a boolean ``status`` field means, by value (Cohere's ``is_deprecated``:
    #: ``{True: "deprecated"}``; Groq's ``active``: ``{False: "inactive"}``); a value not
    #: here says nothing (None).
    status_flags: Mapping[bool, str] | None = None

    @cached_property
    def plain(self) -> bool:
        """Only OpenAI's own columns, at the top level: the parser's fast path applies."""
        return (
            self.created_as == "unix"
            and self.display_name is None
            and not self.context_length
            and self.replacement is None
            and self.status is None
            and not any("." in name for name in self.shutdown)
        )


def read_error(body: Any) -> ErrorInfo | None:
    """The provider's own words from an error body, in any of the shapes providers use.

    ``{"error": {"message", "code", "type"}}`` (OpenAI and the compatible servers, Anthropic,
    google.rpc, Azure), the same wrapped in a one-element list (Gemini's OpenAI-compatible
    endpoint), ``{"error": "text"}``, and a bare ``message`` (Azure's gateway, Mistral) or
    ``detail`` (LiteLLM, FastAPI servers).
    """
    if isinstance(body, list) and len(body) == 1:
        body = body[0]
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):
        return ErrorInfo(
            _text(error.get("message")),
            _text(error.get("code")),
            _text(error.get("type") or error.get("status")),
        )
    if isinstance(error, str):
        return ErrorInfo(error)
    for key in ("message", "detail"):
        if isinstance(body.get(key), str):
            return ErrorInfo(body[key])
    return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class Profile:
    """Everything syncer knows about one provider kind; see each field's comment."""

    kind: str
    #: None: the kind has no public endpoint, so a source must give its ``base_url``.
    default_base_url: str | None
    #: The environment variable the provider's own SDK reads the key from (None: no key).
    key_env: str | None
    #: How the key travels: ``{auth_header}: {auth_scheme} {key}`` (no scheme: the bare key).
    auth_header: str = "Authorization"
    auth_scheme: str = "Bearer"
    #: Sent with every request (a version header); a source's own ``headers`` win.
    headers: Mapping[str, str] = field(default_factory=dict)
    #: Source keys that set a header (``organization`` -> ``OpenAI-Organization``).
    header_options: Mapping[str, str] = field(default_factory=dict)
    #: Variables the SDK reads the key from when ``key_env`` holds none, in its order.
    key_env_fallbacks: tuple[str, ...] = ()
    #: For the source built from the environment alone: variables that set a header...
    env_headers: Mapping[str, str] = field(default_factory=dict)
    #: ...and the variable that sets its base URL.
    base_url_env: str | None = None
    #: The list's path under the base URL; one model is ``{list_path}/{id}``.
    list_path: str = "/models"
    #: Query parameters of every list page (a page size).
    list_query: Mapping[str, str] = field(default_factory=dict)
    #: A query parameter every request carries, and its default (Azure's ``api-version``).
    version_param: str | None = None
    default_version: str | None = None
    #: How the page after a body is found (``paging``).
    paginator: Paginator = single
    #: The body's key that holds the models; None: the body is the list itself.
    items: str | None = "data"
    #: An empty list may leave ``items`` out (protobuf JSON omits empty lists).
    items_optional: bool = False
    #: Further lists of the same source, read after the first with the same query and
    #: paging: (path under the base URL, the key of its models). Gemini's tuned models.
    more_lists: tuple[tuple[str, str], ...] = ()
    fields: Fields = field(default_factory=Fields)
    #: ``GET {list_path}/{id}`` exists, so a model missing from the list is asked about.
    retrieve: bool = True
    #: Which ids that endpoint can address: another is found in the list instead (``models
    #: show --live``), and its vanish is confirmed by the list alone, as for a kind without
    #: the endpoint, since a 404 for it would prove nothing.
    retrievable: Callable[[str], bool] = any_id
    #: Top-level fields the server makes anew for every answer (vLLM's ``created``, the
    #: request time, and ``permission``, with a fresh id): kept in ``raw`` as last listed,
    #: but left out of the model's fingerprint and its comparison, so they never make a
    #: change, an event or a new digest.
    regenerated: frozenset[str] = frozenset()
    fine_tunes: FineTunes = field(default_factory=FineTunes)
    read_error: Callable[[Any], ErrorInfo | None] = read_error
    #: What a key of this provider looks like, so a partial echo in an error is masked too.
    key_pattern: re.Pattern[str] | None = None
    key_mask: str = "***"
    #: The ``litellm_provider`` values of LiteLLM's model map that mean this kind.
    litellm_providers: tuple[str, ...] = ()
    #: The kind's API flavour, when it has several (Azure: ``v1`` or ``classic``).
    api: str | None = None

    @property
    def name(self) -> str:
        """The kind, with its API flavour when it has several: what the parser depends on."""
        return f"{self.kind}-{self.api}" if self.api else self.kind

    def key_variable(self, env: Mapping[str, str]) -> str | None:
        """The variable the key is read from, as the SDK picks it: the first of ``key_env``
        and its fallbacks that holds a value, else ``key_env`` itself."""
        for name in (self.key_env, *self.key_env_fallbacks):
            if name and env.get(name, "").strip():
                return name
        return self.key_env

    def can_retrieve(self, model_id: str) -> bool:
        """Whether ``GET {list_path}/{id}`` can say whether this model exists."""
        return self.retrieve and self.retrievable(model_id)

    @property
    def retention(self) -> bool:
        """Whether retention may run on a source of this kind."""
        return self.fine_tunes.deletable


def profile_for(kind: str, api: str | None = None) -> Profile:
    """The profile of ``kind`` (and its API flavour), importing its module on first use.

    A kind's module holds ``PROFILE``; one with several APIs also holds ``APIS``, the
    profile of each flavour by name, ``PROFILE`` being the default.
    """
    if kind not in KINDS:
        raise ConfigError(f"unknown provider kind {kind!r} (one of: {', '.join(KINDS)})")
    module = importlib.import_module(f"syncer.providers.{kind}")
    apis: Mapping[str, Profile] = getattr(module, "APIS", {})
    if api is None:
        default: Profile = module.PROFILE
        return default
    if api not in apis:
        known = ", ".join(apis) or "none"
        raise ConfigError(f"kind {kind!r} has no api {api!r} (one of: {known})")
    return apis[api]


def all_profiles() -> tuple[Profile, ...]:
    """Every kind's profile, each API flavour of a kind with several."""
    found: list[Profile] = []
    for kind in KINDS:
        module = importlib.import_module(f"syncer.providers.{kind}")
        found += getattr(module, "APIS", {}).values() or [module.PROFILE]
    return tuple(found)


def apis_of(kind: str) -> tuple[str, ...]:
    """The API flavours a kind offers (none for most)."""
    module = importlib.import_module(f"syncer.providers.{profile_for(kind).kind}")
    return tuple(getattr(module, "APIS", {}))

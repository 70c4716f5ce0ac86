"""Sections other apps add to a workspace's page (its AWS environments, its models).

Like the dashboard's panels: apps register a provider in their AppConfig.ready(), so the tracker
shows them without importing the apps that import it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .models import Workspace


@dataclass
class Section:
    id: str
    title: str
    template: str
    context: dict[str, Any]


SectionProvider = Callable[[Workspace, Any, bool], Section | None]
section_providers: list[SectionProvider] = []


def register_workspace_section(provider: SectionProvider) -> SectionProvider:
    """Add a provider, called as provider(workspace, user, is_admin); it returns None to stay out."""
    if provider not in section_providers:
        section_providers.append(provider)
    return provider


def sections_for(workspace: Workspace, user, *, is_admin: bool) -> list[Section]:
    return [section for provider in section_providers if (section := provider(workspace, user, is_admin))]

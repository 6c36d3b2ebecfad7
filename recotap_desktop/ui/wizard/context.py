"""What the wizard's pages share: the kind, the connection, the file, the mapping, the plan."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recotap_desktop.domain.editions import EditionRules, rules_for
from recotap_desktop.engine.connection import ConnectionSpec
from recotap_desktop.engine.plan import ImportJob, ImportOptions, Plan
from recotap_desktop.files import SourceInfo
from recotap_desktop.records import ColumnMapping, ConvertContext, RecordKind, get_kind
from recotap_desktop.store.settings import Profile
from recotap_desktop.ui.services import Services

#: Kinds whose fields include the workspace's account custom fields.


@dataclass
class ImportContext:
    """Mutable state of one wizard; plain data (pages read and write it)."""

    services: Services
    kind: RecordKind
    profile: Profile | None
    rules: EditionRules
    spec: ConnectionSpec | None = None
    connection_error: str | None = None
    connection_loading: bool = False
    custom_fields: list[Any] = field(default_factory=list)
    source: SourceInfo | None = None
    mapping: ColumnMapping = field(default_factory=ColumnMapping)
    date_order: str = "auto"
    plan: Plan | None = None
    plan_key: tuple[Any, ...] | None = None
    #: Every row's planned action against Recotap's accounts (kinds the API lists).
    preview: Any = None
    options: ImportOptions = field(default_factory=ImportOptions)
    client_kwargs: dict[str, Any] = field(default_factory=dict)
    run_result: Any = None
    run_id: int | None = None

    @classmethod
    def create(cls, services: Services, kind: str) -> ImportContext:
        profile = services.active_profile
        return cls(
            services=services,
            kind=get_kind(kind),
            profile=profile,
            rules=rules_for(profile.edition if profile else "crm"),
        )

    @property
    def needs_custom_fields(self) -> bool:
        return self.kind.needs_custom_fields

    def convert_context(self) -> ConvertContext:
        return ConvertContext.build(self.rules, self.custom_fields, date_order=self.date_order)

    def job(self, options: ImportOptions | None = None) -> ImportJob:
        """The import job for the current choices."""
        assert self.source is not None
        return ImportJob(
            kind=self.kind.name,
            path=Path(self.source.path),
            mapping=self.mapping,
            rules=self.rules,
            custom_fields=list(self.custom_fields),
            options=options or ImportOptions(date_order=self.date_order),
            encoding=self.source.encoding,
            delimiter=self.source.delimiter,
            sheet=self.source.sheet,
        )

    def check_key(self) -> tuple[Any, ...]:
        """What the Check page's plan depends on (a new plan is needed when it changes)."""
        src = self.source
        return (
            str(src.path) if src else None,
            src.encoding if src else None,
            src.delimiter if src else None,
            src.sheet if src else None,
            self.mapping.to_json(),
            self.date_order,
            tuple(sorted(getattr(f, "key", "") for f in self.custom_fields)),
        )

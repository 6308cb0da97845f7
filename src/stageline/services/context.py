"""What every service needs: the database, the clock and the deployment's identity."""

from __future__ import annotations

from dataclasses import dataclass

from stageline.arns import Arns
from stageline.clock import Clock
from stageline.store.db import Database


@dataclass(frozen=True, kw_only=True)
class ServiceContext:
    db: Database
    clock: Clock
    arns: Arns

    @property
    def account_id(self) -> str:
        return self.arns.account_id

    @property
    def region(self) -> str:
        return self.arns.region

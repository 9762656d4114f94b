"""The phases of a CloudFormation operation, in the order an update goes through them.

A custom resource request carries its phase (``RequestRecord.phase``, the enum's value), so a test can tell a
cleanup Delete from a rollback's.
"""

from __future__ import annotations

import enum


class Phase(enum.Enum):
    """Which part of an operation a resource change belongs to."""

    #: Create and update, in dependency order.
    DEPLOY = "deploy"
    #: After every create and update succeeded: replaced and removed resources deleted, in reverse dependency
    #: order, under the new template's policies. A failure here does not roll back.
    CLEANUP = "cleanup"
    #: After a failure: the updated resources brought back to the old template, in its dependency order.
    ROLLBACK = "rollback"
    #: The rollback's own cleanup: what the failed operation created is deleted.
    ROLLBACK_CLEANUP = "rollback cleanup"
    #: The stack deleted, every resource in reverse dependency order.
    DESTROY = "destroy"


class StepKind(enum.Enum):
    """What a journalled step did, and so what its rollback must undo (see :mod:`.journal`)."""

    #: A new logical id was created: the rollback deletes it.
    CREATED = "created"
    #: A create failed: the rollback deletes whatever its failed answer named.
    CREATE_FAILED = "create_failed"
    #: A resource was updated: the rollback updates it back.
    UPDATED = "updated"
    #: An update failed after it may have changed something: the rollback updates it back.
    UPDATE_FAILED = "update_failed"
    #: A create-only property changed and a new resource was made: the rollback lists the old one again and
    #: deletes the new one.
    CREATED_REPLACEMENT = "created_replacement"

    @property
    def undone_by_update(self) -> bool:
        """Whether the rollback undoes this step with an Update back to the old properties."""
        return self in (StepKind.UPDATED, StepKind.UPDATE_FAILED)

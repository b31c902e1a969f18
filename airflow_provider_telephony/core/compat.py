"""Imports that moved between Airflow 3.1, 3.2 and 3.3, each resolved once, with a tested fallback.

Everything here is imported lazily by its callers (inside functions): importing a module of this
package must stay cheap, and these names are only needed when a task or trigger runs.
"""

from __future__ import annotations


def airflow_fail_exception() -> type[Exception]:
    """``AirflowFailException``: fails a task at once, without spending its retries."""
    try:
        from airflow.sdk.exceptions import AirflowFailException
    except ImportError:  # pragma: no cover - Airflow 3.1 keeps it in airflow.exceptions only
        from airflow.exceptions import AirflowFailException  # type: ignore[no-redef]
    return AirflowFailException  # type: ignore[no-any-return]


def airflow_exception() -> type[Exception]:
    """``AirflowException``: fails a task attempt; Airflow retries it if the task has retries left."""
    try:
        from airflow.sdk.exceptions import AirflowException
    except ImportError:  # pragma: no cover - Airflow 3.1
        from airflow.exceptions import AirflowException  # type: ignore[no-redef]
    return AirflowException  # type: ignore[no-any-return]


def task_deferred() -> type[BaseException]:
    """``TaskDeferred``, raised by ``BaseOperator.defer`` (moved to ``airflow.sdk.exceptions`` in 3.2)."""
    try:
        from airflow.sdk.exceptions import TaskDeferred
    except ImportError:  # Airflow 3.1
        from airflow.exceptions import TaskDeferred  # type: ignore[no-redef,attr-defined]
    return TaskDeferred  # type: ignore[no-any-return]

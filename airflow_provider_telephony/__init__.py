"""Apache Airflow provider for telephony and call-tracking APIs.

Only cheap things live here: this module is imported by every DAG parse and by
Airflow's provider manager.
"""

from __future__ import annotations

__version__ = "0.1.0"

from airflow_provider_telephony.provider_info import get_provider_info

__all__ = ["__version__", "get_provider_info"]

"""rocketjob: background and batch jobs, with Mission Control to watch and steer them."""

from __future__ import annotations

from rocketjob.batch import BatchJob, BatchStatus, FailedRecord, FailedSlice, FailureGroup
from rocketjob.behaviours.waiting import WaitReason
from rocketjob.behaviours.window import Window
from rocketjob.config import configure, database_url
from rocketjob.cron import CronInfo, list_cron, pause_cron, resume_cron, run_cron_now
from rocketjob.dirmon import DirmonEntry, DirmonState
from rocketjob.errors import (
    ConfigurationError,
    CronNotFound,
    DatabaseUnavailable,
    DirmonEntryNotFound,
    InvalidTransition,
    JobNotFound,
    OutputNotReady,
    RocketJobError,
    SchemaOutOfDate,
    UploadError,
    ValidationError,
    WorkerNotFound,
)
from rocketjob.failures import (
    BulkOutcome,
    FailedJobGroup,
    abort_failed,
    failed_job_groups,
    retry_failed,
)
from rocketjob.jobs import Job
from rocketjob.records import HistoryEntry, JobException, JobPage
from rocketjob.states import Action, State, SubState
from rocketjob.store.failures import FailedFilter
from rocketjob.worker.control import (
    WorkerInfo,
    WorkerJob,
    list_workers,
    pause_workers,
    resume_workers,
    stop_workers,
)

__all__ = [
    "Action",
    "BatchJob",
    "BatchStatus",
    "BulkOutcome",
    "ConfigurationError",
    "CronInfo",
    "CronNotFound",
    "DatabaseUnavailable",
    "DirmonEntry",
    "DirmonEntryNotFound",
    "DirmonState",
    "FailedFilter",
    "FailedJobGroup",
    "FailedRecord",
    "FailedSlice",
    "FailureGroup",
    "HistoryEntry",
    "InvalidTransition",
    "Job",
    "JobException",
    "JobNotFound",
    "JobPage",
    "OutputNotReady",
    "RocketJobError",
    "SchemaOutOfDate",
    "State",
    "SubState",
    "UploadError",
    "ValidationError",
    "WaitReason",
    "Window",
    "WorkerInfo",
    "WorkerJob",
    "WorkerNotFound",
    "abort_failed",
    "configure",
    "database_url",
    "failed_job_groups",
    "list_cron",
    "list_workers",
    "pause_cron",
    "pause_workers",
    "resume_cron",
    "resume_workers",
    "retry_failed",
    "run_cron_now",
    "stop_workers",
]

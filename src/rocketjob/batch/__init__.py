"""Batch jobs: records uploaded into slices, processed in parallel by any worker."""

from __future__ import annotations

from rocketjob.batch.job import BatchJob
from rocketjob.batch.slices import FailedRecord, FailedSlice, FailureGroup
from rocketjob.batch.status import BatchStatus

__all__ = ["BatchJob", "BatchStatus", "FailedRecord", "FailedSlice", "FailureGroup"]

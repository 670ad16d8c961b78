# -*- test-case-name: tests.jobs.test_jobs -*-
"""
Background work: the Redis-stream queue, the worker service that runs it on
every node, the product's jobs, and the periodic jobs' schedule.
"""

from julytwisted.jobs.product import build_jobs
from julytwisted.jobs.queue import JobFunction, JobRegistry, Queue
from julytwisted.jobs.schedule import Scheduler
from julytwisted.jobs.worker import Backoff, WorkerService

__all__ = [
    "Backoff",
    "JobFunction",
    "JobRegistry",
    "Queue",
    "Scheduler",
    "WorkerService",
    "build_jobs",
]

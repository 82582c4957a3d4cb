"""Long work as jobs with progress: an in-process worker over job rows."""

from limner.jobs.runner import JOB_KINDS, JobContext, JobRunner, register

__all__ = ["JOB_KINDS", "JobContext", "JobRunner", "register"]

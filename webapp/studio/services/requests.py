"""From a job row to the adapter's frozen request."""

from __future__ import annotations

from webapp.catalog.sizes import frame_size
from workers.backends.base import GenerationRequest

from ..models import GenerationJob


def build_request(job: GenerationJob) -> GenerationRequest:
    prompt, model = job.prompt, job.model
    width, height = frame_size(model.backend_params, prompt.aspect_ratio)
    return GenerationRequest(
        prompt=prompt.text,
        negative_prompt=prompt.negative_prompt,
        duration_s=prompt.duration_s,
        width=width,
        height=height,
        aspect_ratio=prompt.aspect_ratio,
        seed=prompt.seed,
        params=dict(model.backend_params),
        client_reference=f"screentest-job-{job.pk}",
    )

"""Training on several processes and machines: `torchrun --nproc_per_node N -m talkstyle train ...`.

torchrun starts the command N times per machine with RANK, WORLD_SIZE and LOCAL_RANK in the
environment. Each process joins one process group (NCCL with one GPU each where there are GPUs,
gloo on CPUs), takes its share of every global batch (model/shard.py) and trains the same model
through DistributedDataParallel; process 0 alone writes the pack cache, checkpoints and the log.
Started without torchrun, training is the one process it always was (on the GPU if there is one).
"""
from __future__ import annotations

import contextlib
import datetime
import os
from typing import Callable, Iterator

import torch
import torch.distributed as dist
from torch import nn

from .model.config import TrainConfig
from .model.generator import Batch, Draws, StyleGenerator
from .model.shard import Shard

# Process 0 may be encoding the dataset's audio into the pack cache (an hour and more on a CPU)
# while the others wait for it; torchrun ends every process as soon as one of them fails.
TIMEOUT = datetime.timedelta(hours=12)

StepLosses = Callable[[Batch, Draws], "dict[str, torch.Tensor]"]


@contextlib.contextmanager
def session() -> Iterator[Shard]:
    """This process's place in the job: joins the process group when started by torchrun
    (WORLD_SIZE > 1) and leaves it at the end; an already joined group is kept as it is."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    cuda = torch.cuda.is_available()
    local = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device("cuda", local) if cuda else torch.device("cpu")
    if world == 1:
        yield Shard(device=device)
        return
    if dist.is_initialized():
        yield Shard(dist.get_rank(), dist.get_world_size(), device)
        return
    if cuda:
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if cuda else "gloo", timeout=TIMEOUT, **({"device_id": device} if cuda else {}))
    try:
        yield Shard(dist.get_rank(), dist.get_world_size(), device)
    finally:
        dist.destroy_process_group()


def is_lead() -> bool:
    """Process 0 of a torchrun job, or a process started alone: the one that talks to the user."""
    return int(os.environ.get("RANK", "0")) == 0


@contextlib.contextmanager
def rank_zero_first(shard: Shard) -> Iterator[None]:
    """Process 0 runs the block before the others (it writes the caches that they then read)."""
    if shard.rank > 0:
        dist.barrier()
    yield
    if shard.rank == 0 and shard.world > 1:
        dist.barrier()


class _StepLosses(nn.Module):
    """The training step's losses as a module's forward, which DDP wraps (its gradient averaging
    hooks are set up in forward)."""

    def __init__(self, model: StyleGenerator, tc: TrainConfig, shard: Shard):
        super().__init__()
        self.model, self.tc, self.shard = model, tc, shard

    def forward(self, batch: Batch, draws: Draws) -> dict[str, torch.Tensor]:
        return self.model.losses(batch, self.tc, draws, self.shard)


def step_losses(model: StyleGenerator, tc: TrainConfig, shard: Shard) -> StepLosses:
    """(this process's pairs of a batch, their draws) -> its losses, with gradients that
    backward() averages over the processes."""
    if shard.world == 1:
        return lambda batch, draws: model.losses(batch, tc, draws, shard)
    from torch.nn.parallel import DistributedDataParallel

    # The frozen (DiffPoseTalk-style) encoder gets no gradients: DDP must be told to look for them.
    return DistributedDataParallel(_StepLosses(model, tc, shard), device_ids=[shard.device] if shard.device.type == "cuda"
                                   else None, forward_sync_buffers=False,
                                   find_unused_parameters=tc.freeze_style_encoder)

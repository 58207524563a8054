"""One process's share of a training batch (data parallelism), and the batch means that make N
processes train exactly like one.

Under torchrun every process holds the same global batch of B window pairs in principle and
computes the pairs `rows` of it. DistributedDataParallel averages the processes' gradients, so
the loss each process returns must be `world` times its part of the global loss: every mean over
the batch divides a local sum by the count of the whole batch (`mean`), and the contrastive loss,
which compares every pair with every other, is computed on the whole batch (`gather_pairs`). With
`world == 1` none of this communicates and the losses are the plain batch means.
"""
from __future__ import annotations

import dataclasses

import torch
import torch.distributed as dist


@dataclasses.dataclass(frozen=True)
class Shard:
    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    def rows(self, batch_size: int) -> slice:
        """This process's pairs of a global batch (the trainer checks that it divides evenly)."""
        share = batch_size // self.world
        return slice(self.rank * share, (self.rank + 1) * share)

    def mean(self, total: torch.Tensor, count: torch.Tensor, per: int = 1) -> torch.Tensor:
        """`total` (this process's sum) / (the whole batch's `count` x `per`), scaled by `world`
        for DDP's gradient average."""
        if self.world == 1:
            return total / (count.clamp(min=1) * per)
        count = count.detach().to(torch.float64).clone()
        dist.all_reduce(count)
        return total * self.world / (count.clamp(min=1).to(total.dtype) * per)

    def gather_pairs(self, x: torch.Tensor) -> torch.Tensor:
        """(2b, ...) per-window values of this process's pairs, laid out [windows a; windows b], ->
        the same for the whole batch, (2B, ...) in one process's order. Only this process's own
        rows carry gradients: see `whole_batch_loss`."""
        if self.world == 1:
            return x
        sent = x.detach().to(torch.uint8 if x.dtype == torch.bool else x.dtype).contiguous()   # gloo: no bool
        gathered = [torch.empty_like(sent) for _ in range(self.world)]
        dist.all_gather(gathered, sent)
        parts = [g.to(x.dtype) for g in gathered]
        parts[self.rank] = x
        half = len(x) // 2
        return torch.cat([p[:half] for p in parts] + [p[half:] for p in parts])

    def whole_batch_loss(self, loss: torch.Tensor) -> torch.Tensor:
        """A loss that every process computes on the whole batch (from `gather_pairs`): its value
        as is, its gradient `world` times (each process's backward reaches only its own rows, and
        DDP divides the sum of the processes' gradients by `world`)."""
        if self.world == 1:
            return loss
        return loss.detach() + self.world * (loss - loss.detach())

    def average(self, values: torch.Tensor) -> torch.Tensor:
        """Mean over processes of per-process values (logging: each process returns its `world`-
        scaled share of every loss, so their mean is the global batch's loss)."""
        if self.world == 1:
            return values
        values = values.detach().clone()
        dist.all_reduce(values)
        return values / self.world

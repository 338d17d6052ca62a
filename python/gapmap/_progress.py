"""Progress of a run: tqdm bars per phase, or the user's callback."""

from __future__ import annotations

from typing import Any, Callable, Optional


class Progress:
    """Called by the native module on the calling thread, every 100 ms at most, with
    ``(task, label, done, total, finished)``; hands each phase to ``callback(label, done,
    total)`` or to a tqdm bar."""

    def __init__(self, callback: Optional[Callable[[str, int, Optional[int]], Any]] = None) -> None:
        self._callback = callback
        self._bars: dict[int, Any] = {}

    def __call__(self, task: int, label: str, done: int, total: Optional[int], finished: bool) -> None:
        if self._callback is not None:
            self._callback(label, done, total)
            return
        from tqdm.auto import tqdm

        bar = self._bars.get(task)
        if bar is None:
            bar = self._bars[task] = tqdm(total=total, desc=label, leave=False)
        bar.update(done - bar.n)
        if finished:
            bar.close()
            del self._bars[task]

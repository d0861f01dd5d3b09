"""Fill a service's SQLite database with N signatures for a benchmark, through the store, as
the service writes them: sealed to the install's own public key, keyed with its secret, each
counted. `python bench/fill.py DATABASE N` fills a database made by a first `serve`."""

from __future__ import annotations

import asyncio
import random
import sys
import time
from pathlib import Path

from widget import sealing
from widget.settings import Settings
from widget.signing import Signature, email_key
from widget.store import open_store

SLUG = "belarus"
GROUP = 2_000  # signatures handed to the writer at once; it commits them in batches


def _stamp(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


async def fill(database: Path, count: int) -> None:
    """Add `count` signatures to the campaign, through the store's own writer."""
    started = time.monotonic()
    settings = Settings(database=str(database)).resolve()
    sealer = sealing.Sealer(sealing.operator_public_key(settings.public_key, settings))
    store = open_store(str(database), synchronous="NORMAL")  # a fill need not survive a power cut
    await store.open()
    try:
        if SLUG not in await store.counts():
            raise RuntimeError(f"the service did not create the {SLUG!r} campaign")
        first = int(time.time()) - count
        for done in range(0, count, GROUP):
            await asyncio.gather(*(
                store.add_signature(sealer.seal(Signature(
                    campaign=SLUG, first_name="Filled", last_name="Signer",
                    email=f"fill{i}@example.org", country="CA", postal_code="", opt_in=True,
                    partner=None, partner_opt_in=False,
                    email_key=email_key(settings.secret, f"fill{i}-{random.random()}"),
                    domain_key=None, signed_at=_stamp(first + i),
                )))
                for i in range(done, min(count, done + GROUP))
            ))  # fmt: skip
    finally:
        await store.close()
    print(f"  filled {count:,} signatures in {time.monotonic() - started:.1f} s", flush=True)


if __name__ == "__main__":
    asyncio.run(fill(Path(sys.argv[1]), int(sys.argv[2])))

"""Demo things for the two creators, and flattrs this month and in the
months of the demo's runs (three months ago: posted; two months ago: a draft
to review; see payouts/demo.py). Last month has none: ``payout_demo`` moves
this month's flattrs there."""

import datetime as dt

from django.utils import timezone

from buttons import services
from buttons.models import Category, Flattr, Thing

THINGS = [
    (
        "creator1",
        "https://claire.example.org/blog/libre-fonts",
        "Why I only use libre fonts",
        Category.TEXT,
    ),
    (
        "creator1",
        "https://claire.example.org/podcast/episode-12",
        "Podcast #12: slow web",
        Category.AUDIO,
    ),
    (
        "creator2",
        "https://github.com/david/tiny-router",
        "tiny-router, a 2 kB router",
        Category.SOFTWARE,
    ),
    (
        "creator2",
        "https://david.example.org/photos/alps",
        "Photos: the Alps in winter",
        Category.IMAGES,
    ),
]


def seed(*, users, stdout) -> None:
    things = []
    for owner_key, url, title, category in THINGS:
        owner = users[owner_key]
        thing = Thing.objects.filter(owner=owner, url=url).first()
        if thing is None:
            thing = services.thing_create(
                owner=owner,
                url=url,
                title=title,
                category=category,
                description=f"A demo {category} by {owner.public_name}.",
            )
        things.append(thing)
    now = timezone.now()
    month = services.period_of(now)

    def mid_month(back: int) -> dt.datetime:
        day = month
        for _ in range(back):
            day = (day - dt.timedelta(days=1)).replace(day=1)
        return dt.datetime.combine(day.replace(day=15), dt.time(12), tzinfo=dt.UTC)

    # Three months ago (posted by the payouts demo), two months ago (a draft
    # to review) and this month (still open).
    earlier_at, last_month_at = mid_month(3), mid_month(2)
    plan = {
        "supporter1": [
            (0, earlier_at),
            (1, earlier_at),
            (0, last_month_at),
            (2, last_month_at),
            (3, last_month_at),
            (0, now),
            (2, now),
        ],
        "supporter2": [(2, earlier_at), (1, last_month_at), (2, last_month_at), (1, now)],
        # The patron's whole budget went to Claire's fonts two months ago.
        "patron": [(0, earlier_at)],
    }
    created = 0
    for key, picks in plan.items():
        if key not in users:
            continue
        for index, when in picks:
            _flattr, made = Flattr.objects.get_or_create(
                supporter=users[key],
                thing=things[index],
                period=services.period_of(when),
                defaults={"created_at": when},
            )
            created += made
    stdout.write(f"Demo things ready ({created} new flattrs).")

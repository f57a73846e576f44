import datetime as dt

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import User
from buttons.models import Category, Flattr, Thing

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    display_name = factory.Faker("name")
    monthly_budget_cents = 200

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)


class ThingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Thing

    owner = factory.SubFactory(UserFactory)
    url = factory.Sequence(lambda n: f"https://blog.example.org/post-{n}")
    title = factory.Sequence(lambda n: f"Post number {n}")
    description = "A thing worth flattring."
    category = Category.TEXT


def month_start(when: dt.datetime) -> dt.date:
    return when.date().replace(day=1)


class FlattrFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Flattr

    supporter = factory.SubFactory(UserFactory)
    thing = factory.SubFactory(ThingFactory)
    created_at = factory.LazyFunction(timezone.now)
    period = factory.LazyAttribute(lambda o: month_start(o.created_at))

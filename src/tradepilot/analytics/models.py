"""Analytics tables in the transactional database.

The fact tables are generated from `schema.py` so that the Parquet files and the database tables cannot drift
apart; they are written only by `store.py` (never edited) and read by the `database` engine. `Partition` records,
per dataset partition, when it was last marked stale and last rebuilt: the debounce for background refreshes and
the freshness shown on the dashboards.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tradepilot.analytics.schema import DATASETS, Dataset

_FIELD_FOR_TYPE = {
    "int16": models.SmallIntegerField,
    "int32": models.IntegerField,
    "int64": models.BigIntegerField,
}


def _fact_model(dataset: Dataset, class_name: str) -> type[models.Model]:
    attrs = {"__module__": __name__}
    for name, dtype in dataset.columns:
        attrs[name] = (models.CharField(max_length=64, blank=True) if dtype == "string"
                       else _FIELD_FOR_TYPE[dtype]())
    index_fields = list(dataset.partition_by)
    attrs["Meta"] = type("Meta", (), {
        "db_table": dataset.table,
        "indexes": [models.Index(fields=index_fields, name=f"{dataset.table}_part"[:30])],
        "default_permissions": ("view",),
    })
    return type(class_name, (models.Model,), attrs)


FactLine = _fact_model(DATASETS["fact_line"], "FactLine")
FactFatsIn = _fact_model(DATASETS["fact_fats_in"], "FactFatsIn")
FactFatsOut = _fact_model(DATASETS["fact_fats_out"], "FactFatsOut")

FactEnterpriseMonth = _fact_model(DATASETS["fact_ent_month"], "FactEnterpriseMonth")

FactEnterpriseComponent = _fact_model(DATASETS["fact_ent_comp"], "FactEnterpriseComponent")

FACT_MODELS = {"fact_line": FactLine, "fact_fats_in": FactFatsIn, "fact_fats_out": FactFatsOut,
               "fact_ent_month": FactEnterpriseMonth, "fact_ent_comp": FactEnterpriseComponent}


class Partition(models.Model):
    dataset = models.CharField(max_length=32)
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField(default=0, help_text="0 for datasets partitioned by year only")
    stale_since = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    rows = models.BigIntegerField(default=0)
    seconds = models.FloatField(default=0, help_text="duration of the last refresh (a measurement, not money)")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dataset", "year", "month"], name="analytics_partition_unique")]
        verbose_name = _("analytics partition")

    def __str__(self) -> str:
        return f"{self.dataset} {self.year}-{self.month:02d}"

    @property
    def is_stale(self) -> bool:
        return self.stale_since is not None and (self.refreshed_at is None or self.refreshed_at < self.stale_since)

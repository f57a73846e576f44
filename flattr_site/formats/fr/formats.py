"""Les formats de date des pages en français (voir ../en/formats.py)."""

DATE_FORMAT = "j F Y"  # 7 décembre 2026
DATETIME_FORMAT = "j F Y à H:i"  # 7 décembre 2026 à 18:11
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
YEAR_MONTH_FORMAT = "F Y"  # décembre 2026
MONTH_DAY_FORMAT = "j F"
TIME_FORMAT = "H:i"

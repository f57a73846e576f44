"""One date format and one date-time format for English pages (issue 28,
item 10): templates use DATE_FORMAT, DATETIME_FORMAT and, for a month,
YEAR_MONTH_FORMAT; the short ones are the same so no page differs.
Input formats stay Django's."""

DATE_FORMAT = "j F Y"  # 7 December 2026
DATETIME_FORMAT = "j F Y, H:i"  # 7 December 2026, 18:11
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
YEAR_MONTH_FORMAT = "F Y"  # December 2026
MONTH_DAY_FORMAT = "j F"
TIME_FORMAT = "H:i"

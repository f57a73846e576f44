"""Pay-after-the-month charges, transfers and recoveries."""

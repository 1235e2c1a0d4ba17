"""Reports a bureau can brief from: run, sweep and suite pages built from a results folder alone,
answer first, in Chinese or English, with labels and units from the KPI catalogue."""

-- Every scorecard row accounts for every row received: received = landed + quarantined +
-- duplicates + rows naming an erased subject (dropped at landing), and the quarantined rows
-- are the sum of the per-reason columns (a reason code the scorecard does not know would
-- break the second equation).
select
    source,
    store_id,
    date,
    rows_received,
    rows_landed,
    rows_quarantined,
    duplicates_dropped,
    rows_erased_subject
from {{ ref('dq_scorecard_daily') }}
where
    rows_received <> rows_landed + rows_quarantined + duplicates_dropped + rows_erased_subject
    or rows_quarantined <> 0
    {%- for code in landing_reason_codes() %}
        + quarantined_{{ code }}
    {%- endfor %}

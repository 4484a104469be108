-- Store x local date x recommendation placement, over counted (consented, non-bot) traffic:
-- int_recommendations_daily (its attribution rule there) with its rate.
--   recommendation CTR = clicks / impressions (METRICS.md, as in kpis_daily)
with recommendations as (

    select * from {{ ref('int_recommendations_daily') }}

)

select
    store_id,
    date,
    recommendation_placement,
    impressions,
    clicks,
    {{ ratio('clicks', 'impressions') }} as recommendation_ctr,
    attributed_orders,
    attributed_revenue,
    attributed_revenue_usd
from recommendations

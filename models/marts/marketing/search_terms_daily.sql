-- Store x local date x normalised search term (int_searches_daily: the search term, clicks and
-- their positions are defined there), with its rates.
--   zero-result rate = searches with 0 results / searches (METRICS.md, as in kpis_daily)
--   mean position    = mean list position of the clicks that have one
with searches as (

    select * from {{ ref('int_searches_daily') }}

)

select
    store_id,
    date,
    search_term,
    searches,
    zero_result_searches,
    {{ ratio('zero_result_searches', 'searches') }} as zero_result_rate,
    searches_with_clicks,
    {{ ratio('searches_with_clicks', 'searches') }} as search_click_through_rate,
    clicks,
    positioned_clicks,
    click_position_sum,
    {{ ratio('click_position_sum', 'positioned_clicks') }} as mean_click_position
from searches
-- the retention purge clears the terms of the days it closed in place (int_searches_daily keeps
-- their counts, which kpis_daily built): a term no longer known is not published
where search_term is not null

-- Searches per store-local date and normalised search term, over counted (consented, non-bot)
-- traffic: the one daily aggregate of site search (search_terms_daily divides it, kpis_daily sums it).
--   search term      = the query in lower case, trimmed, inner whitespace collapsed to one space
--   click            = a product view carrying the same search term, later in the same session
--                      than the search; it belongs to the latest such search before it
--
-- Incremental by store and local date (macros/rebuilt_partitions.sql): a session never crosses the
-- store's local midnight, so a day's searches and clicks come from that day's events alone, and the
-- day's stamp is theirs. The partitions are found first (macros/rebuilt_scope.sql), so the events
-- are read by their days as literals, not scanned whole.
{%- set scope = rebuilt_scope(
    'select store_id, event_date as date, partition_landed_at from ' ~ ref('int_events_sessionized'),
    'date',
) %}
with events as {{ inlined() }} (

    {{ rows_in_rebuilt_scope(ref('int_events_sessionized'), 'event_date', scope) | indent(4) }}

),

search_events as {{ inlined() }} (

    select
        event_id,
        store_id,
        event_date,
        session_id,
        event_number,
        event_type,
        results_count,
        list_position,
        partition_landed_at,
        {{ search_term('search_query') }} as search_term
    from events
    where event_type in ('search', 'product_view')

),

searches as (

    select
        event_id as search_event_id,
        store_id,
        event_date,
        session_id,
        event_number,
        search_term,
        results_count,
        partition_landed_at
    from search_events
    where event_type = 'search' and search_term is not null

),

clicks as (

    select
        search_events.event_id as click_event_id,
        search_events.list_position,
        searches.search_event_id,
        row_number() over (
            partition by search_events.event_id
            order by searches.event_number desc
        ) as search_rank
    from search_events
    inner join searches
        on
            search_events.session_id = searches.session_id
            and search_events.search_term = searches.search_term
            and search_events.event_number > searches.event_number
    where search_events.event_type = 'product_view'

),

clicks_per_search as (

    select
        search_event_id,
        count(*) as clicks,
        count(list_position) as positioned_clicks,
        sum(list_position) as position_sum
    from clicks
    where search_rank = 1
    group by search_event_id

)

select
    searches.store_id,
    searches.event_date as date,
    searches.search_term,
    count(*) as searches,
    count(case when searches.results_count = 0 then 1 end) as zero_result_searches,
    count(clicks_per_search.search_event_id) as searches_with_clicks,
    cast(coalesce(sum(clicks_per_search.clicks), 0) as {{ dbt.type_bigint() }}) as clicks,
    cast(coalesce(sum(clicks_per_search.positioned_clicks), 0) as {{ dbt.type_bigint() }}) as positioned_clicks,
    cast(coalesce(sum(clicks_per_search.position_sum), 0) as {{ dbt.type_bigint() }}) as click_position_sum,
    max(searches.partition_landed_at) as partition_landed_at
from searches
left join clicks_per_search
    on searches.search_event_id = clicks_per_search.search_event_id
group by
    searches.store_id,
    searches.event_date,
    searches.search_term

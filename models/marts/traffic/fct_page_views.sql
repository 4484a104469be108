-- Incremental by store and local date, like the sessionized events it reads.
with events as {{ inlined() }} (

    select * from {{ ref('int_events_sessionized') }}

),

page_views as {{ inlined() }} (

    select
        event_id as page_view_id,
        session_id,
        store_id,
        event_date as view_date,
        event_at as viewed_at,
        event_type,
        visitor_id,
        page_path,
        product_id,
        seconds_on_page,
        partition_landed_at
    from events
    where is_page_view

){% if is_incremental() %},

rebuilt as (

    {{ rebuilt_partitions('page_views', 'view_date') | indent(4) }}

){% endif %}

select page_views.*
from page_views
{%- if is_incremental() %}
inner join rebuilt
    on
        page_views.store_id = rebuilt.store_id
        and page_views.view_date = rebuilt.view_date
{%- endif %}

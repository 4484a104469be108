-- Incremental by store and local date, like the session summaries it publishes. A partition is
-- rebuilt when its sessions' inputs landed after the last build, or the customer address version
-- locating one of them did (a late address, a move that ends the version before it).
with sessions as (

    select * from {{ ref('int_sessions_summarized') }}

),

located as (

    select * from {{ ref('int_sessions_located') }}

),

stamped as (

    -- the session's columns of the contract (_traffic__models.yml), the landing time taken with
    -- the address's and the location added
    select
        {%- for column in model.columns if column not in ['partition_landed_at', 'region', 'city'] %}
            sessions.{{ column }},
        {%- endfor %}
        greatest(
            sessions.partition_landed_at,
            coalesce(located.address_landed_at, sessions.partition_landed_at)
        ) as partition_landed_at,
        located.region,
        located.city
    from sessions
    left join located
        on sessions.session_id = located.session_id

){% if is_incremental() %},

rebuilt as (

    {{ rebuilt_partitions('stamped', 'session_date') | indent(4) }}

){% endif %}

select stamped.*
from stamped
{%- if is_incremental() %}
inner join rebuilt
    on
        stamped.store_id = rebuilt.store_id
        and stamped.session_date = rebuilt.session_date
{%- endif %}

-- Incremental by store and local date, like the session summaries it publishes.
with sessions as (

    select * from {{ ref('int_sessions_summarized') }}

),

located as (

    select * from {{ ref('int_sessions_located') }}

){% if is_incremental() %},

rebuilt as (

    {{ rebuilt_partitions('sessions', 'session_date') | indent(4) }}

){% endif %}

-- the contract in _traffic__models.yml pins the columns
select
    sessions.*,  -- noqa: AM04
    located.region,
    located.city
from sessions
left join located
    on sessions.session_id = located.session_id
{%- if is_incremental() %}
inner join rebuilt
    on
        sessions.store_id = rebuilt.store_id
        and sessions.session_date = rebuilt.session_date
{%- endif %}

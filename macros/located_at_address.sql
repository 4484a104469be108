{#- The body of a model giving each row of `relation` (keyed by `keys`, with store_id and
    customer_id) the region and city of its customer's address version valid at `at`
    (int_customer_addresses_located: valid_from <= at < valid_to, an open bound being NULL);
    `unknown` without one; with `landed_at`, also `address_landed_at`, when that version landed (NULL
    without one), for a model incremental on it: a new version also ends the one before, so the
    rows it moves to itself carry its landing time. -#}
{% macro located_at_address(relation, keys, at, landed_at=false) -%}
with located as (

    select * from {{ relation }}

),

addresses as (

    select * from {{ ref('int_customer_addresses_located') }}

)

select
    {%- for key in keys %}
    located.{{ key }},
    {%- endfor %}
    coalesce(addresses.region, 'unknown') as region,
    coalesce(addresses.city, 'unknown') as city
    {%- if landed_at %},
    addresses.landed_at as address_landed_at
    {%- endif %}
from located
left join addresses
    on
        located.store_id = addresses.store_id
        and located.customer_id = addresses.customer_id
        and (addresses.valid_from is null or located.{{ at }} >= addresses.valid_from)
        and (addresses.valid_to is null or located.{{ at }} < addresses.valid_to)
{%- endmacro %}

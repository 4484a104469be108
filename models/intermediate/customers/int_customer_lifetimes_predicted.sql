{#- The LTV fit on Spark, whose local session runs no dbt Python model: the Python file of the same
    name runs it on DuckDB. Each partition of orders, a store's orders all in one (distribute by),
    goes through the same fit (orchestration/ltv/by_store.py) as a script transform, in the Python
    that runs Spark's workers (PYSPARK_PYTHON, which the project's dbt processes are given). -#}
{{ config(enabled=target.type == 'spark', materialized='table') }}

with orders as (

    select
        store_id,
        customer_id,
        placed_at,
        net_revenue
    from {{ ref('int_customer_orders_valued') }}
    distribute by store_id

)

select
    transform(store_id, customer_id, placed_at, net_revenue)
    row format delimited fields terminated by '\t' null defined as 'NULL'
    using '{{ env_var("PYSPARK_PYTHON", "python3") }} -m orchestration.ltv.spark_transform {{ config.get("horizon_months") }} {{ config.get("purchase_model") }}'
    as (
        store_id string,
        customer_id string,
        frequency bigint,
        recency_days double,
        age_days double,
        probability_alive double,
        predicted_purchases double,
        expected_average_value double,
        predicted_value double,
        model_name string,
        model_as_of_at timestamp,
        horizon_months double,
        r double,
        alpha double,
        a double,
        b double
    )
    row format delimited fields terminated by '\t' null defined as 'NULL'
from orders

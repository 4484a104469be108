{#- Orders, GMV, discounts and USD GMV of a store x date model equal those of the non-cancelled
    orders of fct_orders, per store and local day. Returns the days that disagree. -#}
{% test reconciles_with_fct_orders(model) %}

    with from_orders as (

        select
            store_id,
            order_date as date,
            count(*) as orders,
            sum(gmv) as gmv,
            sum(discounts) as discounts,
            sum(gmv_usd) as gmv_usd
        from {{ ref('fct_orders') }}
        where not is_cancelled
        group by store_id, order_date

    ),

    from_model as (

        select
            store_id,
            date,
            orders,
            gmv,
            discounts,
            gmv_usd
        from {{ model }}
        where orders > 0

    )

    select
        coalesce(from_orders.store_id, from_model.store_id) as store_id,
        coalesce(from_orders.date, from_model.date) as date
    from from_orders
    full outer join from_model
        on
            from_orders.store_id = from_model.store_id
            and from_orders.date = from_model.date
    where
        from_orders.orders is distinct from from_model.orders
        or from_orders.gmv is distinct from from_model.gmv
        or from_orders.discounts is distinct from from_model.discounts
        or from_orders.gmv_usd is distinct from from_model.gmv_usd

{% endtest %}

-- Product reviews per store-local day of writing: count, mean rating and the count per star.
with reviews as (

    {{ with_local_date(ref('stg_crm__reviews'), 'created_at', 'review_date') | indent(4) }}

)

select
    store_id,
    review_date as date,
    product_id,
    count(*) as reviews,
    cast(sum(rating) as {{ dbt.type_bigint() }}) as rating_total,
    {{ ratio('sum(rating)', 'count(*)') }} as mean_rating,
    {% for stars in range(1, 6) -%}
        count(case when rating = {{ stars }} then 1 end) as ratings_{{ stars }}_star{% if not loop.last %},{% endif %}
    {% endfor -%}
from reviews
group by
    store_id,
    review_date,
    product_id

{#- A rate is a fraction in [0, 1] or NULL (METRICS.md). -#}
{% test fraction(model, column_name) %}

    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} < 0 or {{ column_name }} > 1

{% endtest %}

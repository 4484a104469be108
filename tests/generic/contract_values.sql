{#- Each column the extract contract `extract` gives allowed values holds only those, or NULL: one
    test per model (macros/columns_failing.sql); a failing row names a column and how many of its
    values are outside the list. The lists come from the generated source definitions
    (`meta.allowed`, orchestration/contracts), so they are written once, in the contract, which
    landing enforces row by row; this checks again what a model carries of them, whatever wrote its
    raw files. `columns` limits the test to some of them (a mart passing one through); without it,
    the model must carry every one. -#}
{% test contract_values(model, extract, columns=none) %}

    {%- set checks = [] -%}
    {%- if execute -%}
        {%- set allowed = contract_allowed_values(extract) -%}
        {%- set tested = columns if columns is not none else allowed.keys() | list -%}
        {%- set carried = tested_model_columns() -%}
        {%- for column in tested -%}
            {%- if column not in allowed or column not in carried -%}
                {{ exceptions.raise_compiler_error(
                    'contract_values: ' ~ column ~ ' is not a column with allowed values of ' ~ extract
                    ~ ' carried by the tested model (allowed: ' ~ allowed.keys() | list ~ ', model: ' ~ carried ~ ')'
                ) }}
            {%- endif -%}
            {%- set values = allowed[column] | map('replace', "'", "''") | join("', '") -%}
            {%- do checks.append([column, column ~ " not in ('" ~ values ~ "')"]) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ columns_failing(model, checks, 'values_not_allowed') }}

{% endtest %}

{#- The gateway decline codes counted one column each (declined_<code>) by int_payment_attempts_daily
    and carried by payments_daily. -#}
{% macro payment_decline_codes() %}
    {{ return([
        'insufficient_funds', 'do_not_honor', 'expired_card', 'fraud_suspected', 'authentication_failed',
        'processing_error'
    ]) }}
{% endmacro %}

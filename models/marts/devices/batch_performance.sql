-- Every batch/lot of a connected product a store sold, with its recall flag. The rule is defined
-- once, in int_batches_evaluated, which inventory_daily reads too (recalled units on hand); this
-- mart publishes it as it is.
with batches as (

    select * from {{ ref('int_batches_evaluated') }}

)

select * from batches

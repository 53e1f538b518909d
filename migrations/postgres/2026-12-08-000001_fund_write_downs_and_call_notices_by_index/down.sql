DROP INDEX notices_call_in_order;
DROP INDEX write_downs_fund_date;

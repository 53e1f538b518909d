DROP TABLE facility_prices;

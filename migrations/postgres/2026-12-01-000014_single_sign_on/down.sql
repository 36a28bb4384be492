DROP TABLE single_sign_ons;

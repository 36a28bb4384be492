DROP TABLE partner_referrals;
DROP TABLE referral_links;

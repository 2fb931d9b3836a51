ALTER TABLE "clients" ADD COLUMN "require_phishing_resistant_mfa" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "enforce_phr_partner_users" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "enforce_phr_organizations" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "enforce_phr_partner_users_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "enforce_phr_organizations_since" timestamp with time zone;
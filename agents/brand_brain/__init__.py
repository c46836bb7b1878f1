"""The brand brain: onboarding, snapshots and the materialized runtime context."""

from .onboarding import BrandDraft, OnboardedBrand, OnboardingRequest, PersonaDraft, PillarDraft, onboard_brand

__all__ = ["BrandDraft", "OnboardedBrand", "OnboardingRequest", "PersonaDraft", "PillarDraft", "onboard_brand"]

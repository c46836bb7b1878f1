"""The brand brain: onboarding, snapshots and the materialized runtime context."""

from .onboarding import OnboardedBrand, OnboardingRequest, PersonaDraft, PillarDraft, onboard_brand

__all__ = ["OnboardedBrand", "OnboardingRequest", "PersonaDraft", "PillarDraft", "onboard_brand"]

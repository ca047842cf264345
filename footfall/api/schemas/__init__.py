"""Request and response models, a family per entity (`…Base`, `…Create`, `…Update`, `…Public`, `…sPublic`)."""

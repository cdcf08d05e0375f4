"""RareDis BRAT standoff -> spaCy Docs / DocBins, and back."""

"""Analytic references and accuracy studies."""

"""patient"""

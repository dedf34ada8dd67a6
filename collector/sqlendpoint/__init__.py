"""sqlendpoint"""

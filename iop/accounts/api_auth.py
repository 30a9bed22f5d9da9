"""API sign-in: expiring, hashed tokens (django-rest-knox), throttled like the sign-in page
(django-axes), with the one-time code for people who use two-factor sign-in; and a person's
own tokens (list, revoke, sign out everywhere)."""

from django.contrib.auth import authenticate, user_logged_in, user_login_failed
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.shortcuts import render
from drf_spectacular.utils import extend_schema
from knox.models import AuthToken
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from iop.accounts import services
from iop.accounts.two_factor import has_second_factor, match_code, two_factor_required

LOCKED_OUT_MESSAGE = "Too many failed sign-in attempts: try again later."


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' lockout: JSON 429 for the API, the page for browsers."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": LOCKED_OUT_MESSAGE, "code": "locked_out"}, status=429)
    return render(request, "registration/locked_out.html", status=429)


class AuthTokenSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
    otp = serializers.CharField(
        max_length=16,
        required=False,
        allow_blank=True,
        help_text="Current two-factor code (or a backup code).",
    )


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField(allow_null=True)


class ObtainTokenView(APIView):
    """Exchange username, password (and `otp` for two-factor users) for an expiring token."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    @extend_schema(
        request=AuthTokenSerializer,
        responses={200: TokenResponseSerializer},
        tags=["auth"],
    )
    def post(self, request):
        given = AuthTokenSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        http = request._request  # axes marks the Django request; its middleware answers 429
        user = authenticate(request=http, username=data["username"], password=data["password"])
        if getattr(http, "axes_locked_out", False):
            return lockout_response(http)
        if user is None:
            raise serializers.ValidationError(
                {"non_field_errors": ["Unable to sign in with the username and password given."]}
            )
        if has_second_factor(user):
            if not data.get("otp"):
                raise serializers.ValidationError(
                    {"otp": ["This account uses two-factor sign-in: send its code."]}
                )
            if match_code(user, data["otp"]) is None:
                user_login_failed.send(
                    sender=__name__, credentials={"username": data["username"]}, request=http
                )
                if getattr(http, "axes_locked_out", False):
                    return lockout_response(http)
                raise serializers.ValidationError({"otp": ["That code is not valid."]})
        elif two_factor_required(user):
            return Response(
                {"detail": "Set up two-factor sign-in in the browser before asking for an API token."},
                status=status.HTTP_403_FORBIDDEN,
            )
        if user.must_change_password:
            return Response(
                {"detail": "Choose a new password in the browser before asking for an API token."},
                status=status.HTTP_403_FORBIDDEN,
            )
        instance, token = services.issue_api_token(user=user)
        user_logged_in.send(sender=user.__class__, request=http, user=user)  # resets axes' count
        return Response({"token": token, "expiry": instance.expiry})


class TokenSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="token_key", read_only=True, help_text="The token's first characters.")
    current = serializers.SerializerMethodField()

    class Meta:
        model = AuthToken
        fields = ["id", "created", "expiry", "current"]

    def get_current(self, token) -> bool:
        auth = self.context["request"].auth
        return isinstance(auth, AuthToken) and auth.digest == token.digest


def live_tokens_of(user):
    from django.db.models import Q
    from django.utils import timezone

    return AuthToken.objects.filter(user=user).filter(Q(expiry__isnull=True) | Q(expiry__gt=timezone.now()))


class MyTokensView(APIView):
    """The caller's own unexpired API tokens."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: TokenSerializer(many=True)}, tags=["auth"])
    def get(self, request):
        tokens = live_tokens_of(request.user).order_by("-created")
        return Response(TokenSerializer(tokens, many=True, context={"request": request}).data)


class MyTokenView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None}, tags=["auth"])
    def delete(self, request, token_id: str):
        """Revoke one of the caller's tokens (its `id`)."""
        try:
            services.revoke_api_token(actor=request.user, user=request.user, token_key=token_id)
        except DjangoValidationError:
            return Response({"detail": "No such token."}, status=status.HTTP_404_NOT_FOUND)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SignOutEverywhereView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None}, tags=["auth"])
    def post(self, request):
        """Revoke every token of the caller (this one too) and end all their browser sessions."""
        services.sign_out_everywhere(actor=request.user, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
